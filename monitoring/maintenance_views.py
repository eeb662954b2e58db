"""The maintenance page of an asset: its windows (past, running, coming), and for its owners a form to set one
and a button to end one early. The work is ``monitoring.maintenance``'s."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog.access import asset_for_user
from monitoring import maintenance
from monitoring.forms import MaintenanceWindowForm
from monitoring.models import MaintenanceWindow


def maintenance_page(request, uuid):
    asset, can_edit = asset_for_user(request, uuid=uuid)
    form = MaintenanceWindowForm(request.POST or None, initial={"starts_at": timezone.localtime().replace(second=0)})
    if request.method == "POST":
        asset, can_edit = asset_for_user(request, uuid=uuid, edit=True)
        if form.is_valid():
            data = form.cleaned_data
            try:
                maintenance.schedule(
                    asset, by=request.user, reason=data["reason"], starts_at=data.get("starts_at"),
                    ends_at=data["ends_at"], freshness_only=data["freshness_only"],
                )  # fmt: skip
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"{asset.name} is in maintenance until {data['ends_at']:%d %b %Y %H:%M}.")
                return redirect("monitoring:maintenance", uuid=asset.uuid)
    windows = MaintenanceWindow.objects.filter(asset=asset).select_related("set_by")[:50]
    context = {"asset": asset, "can_edit": can_edit, "form": form, "windows": windows, "now": timezone.now()}
    return render(request, "monitoring/maintenance.html", context)


@require_POST
def maintenance_end(request, pk):
    window = get_object_or_404(MaintenanceWindow.objects.select_related("asset"), pk=pk)
    asset_for_user(request, uuid=window.asset.uuid, edit=True)
    try:
        maintenance.end(window, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Maintenance ended: alerts resume.")
    return redirect("monitoring:maintenance", uuid=window.asset.uuid)
