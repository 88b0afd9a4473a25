import graphene
from graphene_django import DjangoObjectType

from accounts import selectors
from accounts.models import User


class UserType(DjangoObjectType):
    class Meta:
        model = User
        fields = ("id", "username", "display_name", "role")


class AccountQuery(graphene.ObjectType):
    me = graphene.Field(UserType, description="The logged-in user, or null.")
    staff = graphene.List(
        graphene.NonNull(UserType),
        required=True,
        description="This Pemda's staff; Pemda admins and supervisors only.",
    )

    def resolve_me(root, info):
        user = info.context.user
        # An API token is no account (integration.auth.TokenUser): no `me`.
        return user if user.is_authenticated and isinstance(user, User) else None

    def resolve_staff(root, info):
        return selectors.staff_visible_to(info.context.user)
