"""Storage: SQLAlchemy 2 models, repositories that implement the flows' ports, migrations."""
