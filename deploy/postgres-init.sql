-- MLflow keeps its tracking store in its own database on the same server.
CREATE DATABASE mlflow OWNER portal;
