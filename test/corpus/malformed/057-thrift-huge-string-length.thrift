CwBkf///8GFiYwA=
