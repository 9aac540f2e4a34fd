"""What the pipeline serves from the marts: files for BI tools (`publish`) and the HTML report."""
