"""A company lookup source for the tests (a real one is an operator's setting)."""

from __future__ import annotations

from onboarding.lookup import FoundCompany


class RegistryOfTwo:
    """Knows one company; "fails" for another INN, as a source out of quota does."""

    name = "test registry"

    def find(self, inn: str) -> FoundCompany | None:
        if inn == "7707083893":
            return FoundCompany(
                legal_name='ПАО "Сбербанк"',
                inn=inn,
                kpp="773601001",
                ogrn="1027700132195",
                legal_address="Москва, ул. Вавилова, 19",
                director="Греф Герман Оскарович",
            )
        if inn == "7736207543":
            raise TimeoutError("the registry did not answer")
        return None
