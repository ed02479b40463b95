"""Adversarial tests (issue 9): each reproduces an attack or a hostile input and keeps it fixed.

Bounded in time and memory, and loopback only: every listener and server a test starts binds
127.0.0.1, and every request loop stops by itself.
"""
