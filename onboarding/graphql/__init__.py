"""GraphQL for onboarding, on the public endpoint. Add Query/Mutation classes
(graphene.ObjectType subclasses) to these tuples; siaga112.schema combines them."""

from onboarding.graphql.queries import OnboardingQuery

PUBLIC_QUERIES: tuple[type, ...] = (OnboardingQuery,)
PUBLIC_MUTATIONS: tuple[type, ...] = ()
