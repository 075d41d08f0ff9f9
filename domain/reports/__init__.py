"""Reports over many applications (docs/reports.md): pure computations on rows the read model
answers, with each unit's policy and calendar. No database here: readmodel.report_queries
reads, api.report_builder joins the two."""
