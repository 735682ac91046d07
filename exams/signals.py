"""What exam delivery announces. Apps above exams (scoring) subscribe from their ready();
exams imports none of them.

Both signals are sent inside the transaction of the change they announce, so a receiver's
own writes commit or roll back with it, and a receiver that raises stops the change.
"""

from django.dispatch import Signal

# An attempt was closed (submitted by the candidate or expired): kwargs attempt_id, state.
attempt_finalised = Signal()

# A form is being published, before its status changes: kwargs form, by. A receiver that
# raises ValidationError (saying what is missing) stops the publication.
form_publishing = Signal()
