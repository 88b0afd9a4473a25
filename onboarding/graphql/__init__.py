"""GraphQL for onboarding, on the public endpoint. Add Query/Mutation classes
(graphene.ObjectType subclasses) to these tuples; siaga112.schema combines them."""

PUBLIC_QUERIES: tuple[type, ...] = ()
PUBLIC_MUTATIONS: tuple[type, ...] = ()
