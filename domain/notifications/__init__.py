"""Who hears of a warning, what the SMS says, and when it may leave: pure functions over the
policy, the calendar and the staff they are given.

- `windows`: the send windows (the policy's table and the business calendar → the window an
  instant falls into or waits for), and when the dispatcher must wake next;
- `messages`: the texts of warning and progress messages;
- `recipients`: the policy's roles resolved to people, over a list of staff values.

The database (the outbox, the staff query) is `readmodel.outbox_queue`; the activities in
`activities.notifications` join the two.
"""
