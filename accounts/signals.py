"""What happens to a member's account, for the apps that keep the member's data.

The accounts app is a catalog: it imports neither the core nor the features. The services
here send these signals inside their transaction, and the apps that hold a member's data
(creations, scoring, community) connect receivers in their `AppConfig.ready()`. Unlike the
core's signals, these receivers do their part of the work at once, in the same transaction:
an account deletion or suspension must leave every aggregate exact when it commits.
"""

from django.dispatch import Signal

# A moderator suspended or banned a member (restricted=True), or lifted it (False).
# Arguments: user, restricted. Receivers hide or restore the member's creations and stop or
# restart counting their scores, recomputing what depends on them.
member_restricted = Signal()

# A member's account is about to be deleted (accounts.services.user_delete). Arguments: user,
# actor (who deletes it from the admin; None when the member deletes their own). Receivers
# delete or anonymise what is theirs and recompute what depended on it; stored files are
# removed once the transaction commits; moderation logs an operator's deletion.
member_deleting = Signal()

# Build a member's data export. Argument: user. Each receiver returns a dict
# {"json": {file name: data}, "files": [(name in the zip, storage name), …]}.
member_export = Signal()

# A member's data export is ready. Arguments: user, export, url. Community notifies them.
member_export_ready = Signal()
