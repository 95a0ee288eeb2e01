CwBk////8GFiYwA=
