"""Risk scorecards (configurable rules with points and reasons) and their results."""
