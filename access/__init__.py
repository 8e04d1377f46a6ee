"""The vocabulary of the access policy, beneath every domain app: the staff roles and what each
may do (`access.roles`), and the two refusals (`access.errors`).

Who may see what is decided by the selectors of the app that owns the object, all taking a user
(never a request): `patients.selectors` (a patient's own record and valid proxies),
`booking.selectors` (clinics, configuration, appointments), `planning.selectors` (booking tasks,
plans, referrals, and which patients staff may see). Surfaces only ask them.
"""
