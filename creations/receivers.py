"""What the core does when something happens to a member's account (accounts.signals):
their creations go with a deleted account, are hidden while they are suspended or banned,
and are part of their data export. Connected by `CreationsConfig.ready()`."""
