CwA=
