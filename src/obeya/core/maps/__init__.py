"""Value stream maps: the current state from data or by hand, the future state as variants."""
