from django import forms
from django.utils.translation import gettext_lazy as _


class ClientForm(forms.Form):
    name = forms.CharField(label=_("Client name"), max_length=300)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the client's name."))
        return name
