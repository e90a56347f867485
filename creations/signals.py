"""What happens to creations, for the features that react to it.

The services that make each event send these signals inside their transaction, so a receiver
sees the change and its own writes commit or roll back with it. Features never import each
other (docs/architecture.md): scoring and moderation send, community (notifications) receives,
and each only knows the core. A receiver must be quick and must not do the work of the
reaction itself: it records what is to be done and leaves the rest to the background worker.
"""

from django.dispatch import Signal

# A member scored a creation for the first time. Arguments: creation, user, score_id.
creation_scored = Signal()

# A moderator hid a creation that is not theirs. Arguments: creation, actor, reason.
creation_hidden = Signal()

# A moderator approved a new member's upload that waited for review (it is published now).
# Arguments: creation, actor.
creation_approved = Signal()

# A moderator resolved a member's report about a creation. Arguments: creation, reporter,
# moderator, report_id.
report_resolved = Signal()

# A moderator decided an owner's appeal against the hide of their creation (granted: published
# again; denied: it stays hidden). Arguments: creation, owner, granted, note, appeal_id.
appeal_decided = Signal()

# A moderator acted (moderation's log records it). Arguments: actor, action (a
# moderation.models.ModerationAction.Action value), targets (model instances), reason,
# category (a ModerationAction.Category value; empty: moderation's log picks it, for a hide
# the reason the creation was reported for, else "other").
moderator_acted = Signal()
