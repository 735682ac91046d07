from django.apps import AppConfig


class ItemAnalysisConfig(AppConfig):
    name = "itemanalysis"
    verbose_name = "Item analysis"

    def ready(self) -> None:
        # The bank's item admin shows statistics columns, a flag filter, the promotion
        # action and a statistics section; the bank knows nothing of them, this app adds
        # them to the registered admin here.
        from itemanalysis.bank_admin import extend_item_version_admin

        extend_item_version_admin()
