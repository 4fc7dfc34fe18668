"""Independent reference implementations that the tests check Obeya's engine against."""
