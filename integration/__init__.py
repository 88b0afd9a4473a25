"""The integration API's own records, all in the public schema: API tokens
(tenant, province or national scope), the provincial incident feed that tenant
writes fill in the same transaction, and the stored answers of idempotent
mutations. Imports no product app above it: incidents and siaga112 use it."""
