from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
        help_text=_("The 6-digit code from your authenticator app, or a recovery code."),
    )


class ConfirmTotpForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class RemoveFactorForm(forms.Form):
    kind = forms.ChoiceField(choices=[("totp", "totp"), ("key", "key")], widget=forms.HiddenInput)
    device = forms.IntegerField(widget=forms.HiddenInput)
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class KeyNameForm(forms.Form):
    key = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(
        label=_("Name of the key"),
        max_length=64,
        help_text=_("So that you can tell your keys apart, e.g. “YubiKey on the keyring”."),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
