"""A customer's sales schema as the rules engine understands it.

``SourceSchema`` is what the tenant gave us (DDL, a JSON description, or a live database we introspected),
normalised into one JSON shape. ``SchemaMapping`` is the analysis of it: which table/column holds each
concept an incentive campaign needs (``ConceptMapping`` rows), the join paths, an understanding score and
feedback. Corrections an admin makes are kept on the concept rows and survive re-analysis.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import BaseModel


class SourceSchema(BaseModel):
    """A schema of the tenant's sales database, normalised into ``definition``.

    ``definition`` is ``{"tables": [{"name", "columns": [{"name", "type", "nullable"}], "primary_key": [...],
    "foreign_keys": [{"columns": [...], "ref_table", "ref_columns": [...]}]}]}`` (see schema_ingest.py).
    """

    class Format(models.TextChoices):
        DDL = "ddl", _("SQL DDL")
        JSON = "json", _("JSON description")
        INTROSPECTION = "introspection", _("Live database introspection")

    class Dialect(models.TextChoices):
        POSTGRES = "postgres", _("PostgreSQL")
        MYSQL = "mysql", _("MySQL / MariaDB")
        TSQL = "tsql", _("SQL Server")
        ORACLE = "oracle", _("Oracle")
        SQLITE = "sqlite", _("SQLite")

    name = models.CharField(_("name"), max_length=200, blank=True)
    format = models.CharField(_("format"), max_length=20, choices=Format.choices)
    dialect = models.CharField(_("dialect"), max_length=20, choices=Dialect.choices)
    raw_text = models.TextField(_("schema as uploaded"), blank=True)
    definition = models.JSONField(_("normalised schema"), default=dict)
    # Fernet token of the source database's connection URL (introspected schemas only); never logged.
    connection_encrypted = models.TextField(_("encrypted connection"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )

    class Meta(BaseModel.Meta):
        verbose_name = _("source schema")
        verbose_name_plural = _("source schemas")

    def __str__(self) -> str:
        return self.name or f"{self.get_format_display()} ({self.dialect})"

    @property
    def table_names(self) -> list[str]:
        return [table["name"] for table in self.definition.get("tables", [])]


class SchemaMapping(BaseModel):
    """The analysis of one source schema: score 0..1, feedback text and questions in ``language``."""

    source_schema = models.OneToOneField(SourceSchema, on_delete=models.CASCADE, related_name="mapping",
                                         verbose_name=_("source schema"))
    language = models.CharField(_("language"), max_length=10, default="en")
    score = models.DecimalField(_("understanding score"), max_digits=3, decimal_places=2, default=0)
    feedback = models.TextField(_("feedback"), blank=True)
    questions = models.JSONField(_("questions"), default=list, blank=True)
    joins = models.JSONField(_("join paths"), default=list, blank=True)
    shape = models.CharField(_("shape"), max_length=20, blank=True,
                             help_text=_("normalised, or denormalised for a single wide sales table"))
    analysed_at = models.DateTimeField(_("analysed at"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("schema mapping")
        verbose_name_plural = _("schema mappings")

    def __str__(self) -> str:
        return f"{self.source_schema} ({self.score})"


class ConceptMapping(BaseModel):
    """Where one campaign concept (order, line_amount, order_status, ...) lives in the source schema."""

    mapping = models.ForeignKey(SchemaMapping, on_delete=models.CASCADE, related_name="concepts",
                                verbose_name=_("schema mapping"))
    concept = models.CharField(_("concept"), max_length=40)
    table = models.CharField(_("table"), max_length=255, blank=True)
    column = models.CharField(_("column"), max_length=255, blank=True)
    # Only "quantity * unit_price" (line amount computed from two mapped columns) is understood.
    expression = models.CharField(_("expression"), max_length=100, blank=True)
    # order_status: logical status -> raw values in the source, e.g. {"cancelled": ["CANC", "cancelled"]}.
    values = models.JSONField(_("values"), default=dict, blank=True)
    confidence = models.DecimalField(_("confidence"), max_digits=3, decimal_places=2, default=0)
    candidates = models.JSONField(_("other candidates"), default=list, blank=True)
    corrected_by_admin = models.BooleanField(_("corrected by an admin"), default=False)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("corrected by"),
    )
    corrected_at = models.DateTimeField(_("corrected at"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("concept mapping")
        verbose_name_plural = _("concept mappings")
        ordering = ("concept",)
        constraints = [
            models.UniqueConstraint(fields=("mapping", "concept"), name="rules_conceptmapping_mapping_concept_uniq"),
        ]

    def __str__(self) -> str:
        target = f"{self.table}.{self.column}" if self.column else self.table or "-"
        return f"{self.concept} -> {target}"
