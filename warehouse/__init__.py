"""Where the warehouse files live, and (later) publishing them for BI tools."""
