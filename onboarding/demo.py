"""Onboarding's part of the demo seed (called by siaga112.demo.seed_demo after
the stages, tenants and users exist). Must be idempotent."""


def seed_onboarding_demo() -> None:
    """Evidence for the demo Pemda, so their pages show what they have and lack."""
