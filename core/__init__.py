"""Shared, domain-free building blocks every app may import.

Nothing here imports a product app or the project package `siaga112`: apps
depend on `core`, never the other way round.
"""
