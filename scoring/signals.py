"""What scoring announces. Apps above scoring subscribe from their ready(); scoring imports
none of them.

Sent inside the transaction that stores the result, so a receiver's own writes (a record of
work still to do) commit or roll back with the score.
"""

from django.dispatch import Signal

# An attempt's result was stored, once: kwargs attempt_id, result (the AttemptResult).
attempt_scored = Signal()

# A stored result was replaced by a rescoring (a new conversion table version): kwargs
# attempt_id, result (the AttemptResult, its version raised).
attempt_rescored = Signal()
