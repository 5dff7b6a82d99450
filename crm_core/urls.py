from django.urls import path

from crm_core import views

urlpatterns = [
    path("", views.workspace, name="workspace"),
]
