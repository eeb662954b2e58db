from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and teams"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_save, pre_delete

        from accounts import events, schema  # noqa: F401 - schema registers the OpenAPI description of tokens
        from accounts.middleware import load_time_zone, stamp_session

        user = get_user_model()
        post_save.connect(events.user_saved, sender=user, dispatch_uid="accounts-people-changed")
        pre_delete.connect(events.user_deleting, sender=user, dispatch_uid="accounts-people-removed")
        user_logged_in.connect(stamp_session, dispatch_uid="accounts-idle-session-stamp")
        user_logged_in.connect(load_time_zone, dispatch_uid="accounts-time-zone")
