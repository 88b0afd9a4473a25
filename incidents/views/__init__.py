"""The Pemda's call center screens, one module per sub-domain (urls.py imports them):

- `consoles`: the landing redirect and each role's console (call-taker, OPD,
  supervisor, handover, dashboard).
- `calls`: answering and classifying calls, number blocks.
- `incidents`: the incident list, creating one, its page, attaching calls, closing.
- `dispatching`: dispatching agencies, the responder's steps, reassigning.
- `referring`: referring an incident to a neighbour, the referral inbox.
- `setup`: the Pemda admin's users, agencies, categories, PBX keys and settings.
- `common`: the decorator and answers they share.

Views are thin: a policy decides who may, `incidents.forms` reads the input, a
selector reads and a service writes.
"""
