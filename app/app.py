"""The host app: builds ``rx.App`` and adds pages; each page lives in its own module."""

import reflex as rx

from app.pages import designer, index, insights, login, privacy, signup, workspace
from app.session import SessionState
from app.wiring import api_transformer, configure_widgets

configure_widgets()

app = rx.App(api_transformer=api_transformer())
app.add_page(index.page, route="/", title="Adaptive workspace", on_load=SessionState.load)
app.add_page(signup.page, route="/signup", title="Sign up", on_load=SessionState.load)
app.add_page(login.page, route="/login", title="Sign in", on_load=SessionState.load)
app.add_page(
    workspace.page, route="/workspace", title="Workspace", on_load=workspace.WorkspaceState.load
)
app.add_page(
    privacy.page, route="/privacy", title="Privacy center", on_load=privacy.PrivacyState.load
)
app.add_page(
    designer.page, route="/designer", title="Designer console", on_load=designer.DesignerState.load
)
app.add_page(
    insights.page, route="/insights", title="Insights", on_load=insights.InsightsState.load
)
