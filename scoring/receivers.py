"""What scoring does when something happens to a member's account (accounts.signals): a
deleted member's scores are withdrawn and a suspended or banned member's stop counting, with
every affected aggregate recomputed in the same transaction; their scores are part of their
data export. Connected by `ScoringConfig.ready()`."""
