"""Every write of 112 operations, one module per sub-domain. Import from the module:

- `pbx`: PBX keys (create, revoke, authenticate).
- `calls`: PBX call events, the console's answer/classify, AML positions, number blocks.
- `incidents`: creating an incident (and the duplicate offer), attaching calls, closing.
- `dispatching`: dispatch to agencies, the responder's steps, reassigning, escalation.
- `referring`: cross-Pemda referral from the call center's side.
- `setup`: the Pemda admin's categories, agencies, routing, staff and settings.
- `status` and `common`: what the others share (status changes, timeline, row locks).

Services are keyword-only and atomic, and each change of an incident writes its
timeline entry in the same transaction. They raise incidents.errors.OperationError
for anything a person must fix; views and GraphQL turn it into a 4xx answer, and
the transaction rolls back so nothing is half-saved.
"""
