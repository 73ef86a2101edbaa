"""The permission matrix, split by domain: tests/test_permissions_matrix.py runs it."""

from tests.matrix import consent, exports, insights, segments, selfservice

DOMAINS = (segments, insights, consent, selfservice, exports)
