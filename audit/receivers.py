"""Django's own signals recorded in the audit log: sign-in, failure, lockout (django-axes),
group and permission changes, staff/superuser flag flips.

Adapters only: each receiver turns a signal into one `audit_record` call.
"""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import m2m_changed, post_save, pre_save

from audit.services import audit_record

# User fields whose change is a change of rights.
FLAG_FIELDS = ("is_superuser", "is_staff", "is_active")


def connect() -> None:
    user_model = get_user_model()
    user_logged_in.connect(on_login, dispatch_uid="audit_login")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit_login_failed")
    m2m_changed.connect(
        on_groups_changed, sender=user_model.groups.through, dispatch_uid="audit_user_groups"
    )
    m2m_changed.connect(
        on_permissions_changed,
        sender=user_model.user_permissions.through,
        dispatch_uid="audit_user_permissions",
    )
    m2m_changed.connect(
        on_permissions_changed,
        sender=Group.permissions.through,
        dispatch_uid="audit_group_permissions",
    )
    pre_save.connect(remember_flags, sender=user_model, dispatch_uid="audit_user_flags_pre")
    post_save.connect(on_user_saved, sender=user_model, dispatch_uid="audit_user_flags_post")
    if apps.is_installed("axes"):
        from axes.signals import user_locked_out

        user_locked_out.connect(on_locked_out, dispatch_uid="audit_lockout")


def on_login(sender, request, user, **kwargs) -> None:
    audit_record("auth.login", actor=user, request=request, obj=user)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already replaced the password with stars in `credentials`.
    username = str(credentials.get("username", ""))[:150]
    audit_record("auth.login_failed", request=request, details={"username": username})


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    audit_record(
        "auth.lockout",
        request=request,
        address=ip_address or "",
        details={"username": str(username or "")[:150]},
    )


def _change(action: str, pk_set) -> dict | None:
    if action in ("post_add", "post_remove"):
        return {"added" if action == "post_add" else "removed": sorted(pk_set or ())}
    if action == "post_clear":
        return {"cleared": True}
    return None


def on_groups_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    change = _change(action, pk_set)
    if change is None:
        return
    if reverse:  # group.user_set.add(...): the group changed, the users are in pk_set
        audit_record("auth.groups_changed", obj=instance, details={"users": change})
        return
    names = sorted(Group.objects.filter(pk__in=pk_set or ()).values_list("name", flat=True))
    audit_record("auth.groups_changed", obj=instance, details={**change, "groups": names})


def on_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    change = _change(action, pk_set)
    if change is None:
        return
    if reverse:  # permission.user_set / group_set: the permission is the instance
        audit_record("auth.permissions_changed", obj=instance, details={"holders": change})
        return
    codenames = sorted(
        f"{app}.{codename}"
        for app, codename in Permission.objects.filter(pk__in=pk_set or ()).values_list(
            "content_type__app_label", "codename"
        )
    )
    audit_record(
        "auth.permissions_changed", obj=instance, details={**change, "permissions": codenames}
    )


def remember_flags(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(FLAG_FIELDS):
        return  # e.g. last_login on sign-in: no extra query
    old = sender.objects.filter(pk=instance.pk).values(*FLAG_FIELDS).first()
    if old is None:
        return
    flips = {
        name: [old[name], getattr(instance, name)]
        for name in FLAG_FIELDS
        if old[name] != getattr(instance, name)
    }
    instance._audit_flag_flips = flips


def on_user_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw:
        return
    if created:
        flags = {name: getattr(instance, name) for name in FLAG_FIELDS if name != "is_active"}
        if any(flags.values()):
            audit_record("auth.permissions_changed", obj=instance, details={"created": flags})
        return
    flips = instance.__dict__.pop("_audit_flag_flips", None)
    if flips:
        audit_record("auth.permissions_changed", obj=instance, details={"flags": flips})
