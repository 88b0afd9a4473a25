"""Referral permissions per tenant role (the services check the Pemda; these the
person). OPD responders and Pemda admins have no business with referrals."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from referrals.policies import can_answer_referral, can_send_referral, can_view_referrals

MATRIX = {
    # role: (view, send, answer)
    "call_taker": (True, True, True),
    "supervisor": (True, True, True),
    "viewer": (True, False, False),
    "opd_responder": (False, False, False),
    "pemda_admin": (False, False, False),
    "national_officer": (False, False, False),
}


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_role_matrix(tenant_a, make_user, role) -> None:
    user = make_user(tenant_a, role)
    assert (can_view_referrals(user), can_send_referral(user), can_answer_referral(user)) == (
        MATRIX[role])
    user.is_active = False
    assert not (can_view_referrals(user) or can_send_referral(user) or can_answer_referral(user))


def test_anonymous_may_nothing() -> None:
    anonymous = AnonymousUser()
    assert not (can_view_referrals(anonymous) or can_send_referral(anonymous)
                or can_answer_referral(anonymous))
    assert not can_view_referrals(None)
