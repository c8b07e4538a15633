"""Registry of typical wrong answers for the exercise checkers (tests/test_checkers.py)."""
