from django.urls import path

from knowledge import picker_views, public_views, views

urlpatterns = [
    path("knowledge/", views.article_list, name="knowledge"),
    path("knowledge/new/", views.article_edit, name="knowledge_article_new"),
    path("knowledge/preview/", views.article_preview, name="knowledge_preview"),
    path("knowledge/picker/", picker_views.picker, name="knowledge_picker"),
    path("knowledge/<int:article_id>/", views.article_edit, name="knowledge_article"),
    path("knowledge/<int:article_id>/publish/", views.article_publish, name="knowledge_publish"),
    path(
        "knowledge/<int:article_id>/unpublish/",
        views.article_unpublish,
        name="knowledge_unpublish",
    ),
    path("knowledge/<int:article_id>/images/", views.article_image, name="knowledge_image"),
    path("knowledge/<int:article_id>/delete/", views.article_delete, name="knowledge_delete"),
    path("knowledge/<int:article_id>/history/", views.article_history, name="knowledge_history"),
    path(
        "knowledge/<int:article_id>/history/<int:version_id>/restore/",
        views.article_restore,
        name="knowledge_restore",
    ),
    path("knowledge/categories/", views.category_list, name="knowledge_categories"),
    path("knowledge/categories/<int:category_id>/", views.category_list, name="knowledge_category"),
    path(
        "knowledge/categories/<int:category_id>/delete/",
        views.category_delete,
        name="knowledge_category_delete",
    ),
    path("knowledge/help-centre/", views.help_settings, name="knowledge_help_settings"),
    # The public help centre (settings.PUBLIC_COMPANY_PATHS: open to anyone, office-only too).
    path("help/", public_views.home, name="help_home"),
    path("help/search/", public_views.search_page, name="help_search"),
    path("help/c/<int:category_id>/", public_views.category, name="help_category"),
    path("help/a/<int:article_id>/", public_views.article, name="help_article"),
    path("help/theme.css", public_views.theme, name="help_theme"),
    path("help/logo/", public_views.logo, name="help_logo"),
    # An article's picture: public or members only, decided per picture (queries.images).
    path("help/images/<uuid:key>/", public_views.image, name="help_image"),
]
