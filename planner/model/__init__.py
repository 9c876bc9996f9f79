"""Pure domain model: sites, portfolio, readiness, economics, hybrid load. No Qt, no GIS."""
from planner.model.fields import FIELDS, FIELD_LIST, FieldSpec
from planner.model.portfolio import Portfolio, PortfolioError
from planner.model.site import Issue, PlannerError, Site, SiteError, coerce_value

__all__ = ["FIELDS", "FIELD_LIST", "FieldSpec", "Issue", "PlannerError", "Portfolio",
           "PortfolioError", "Site", "SiteError", "coerce_value"]
