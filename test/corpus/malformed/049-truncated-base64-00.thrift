CwBk
