from django.apps import AppConfig


class CodebookConfig(AppConfig):
    name = "codebook"
    verbose_name = "Code book"
