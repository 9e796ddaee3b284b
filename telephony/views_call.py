"""`POST /telephony/call/<callback id>/`: click-to-call from the call-back list.

Staff only (a signed-in staff session through the staff middleware: second factor,
session limits), CSRF-checked like every admin form, POST only. The entry is fetched
through the staff access layer (404 for someone else's); nothing of the number is in the
request or the answer.
"""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from telephony.click_to_call import callback_call


@require_POST
@staff_member_required
def callback_call_view(request: HttpRequest, callback_id: int) -> HttpResponseRedirect:
    try:
        callback = callback_call(user=request.user, callback_id=callback_id, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Your phone rings now; pick it up to call %(number)s back.")
            % {"number": callback.ticket.reference},
        )
    return HttpResponseRedirect(reverse("admin:tickets_callbackrequest_changelist"))
