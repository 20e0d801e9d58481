"""The Docker stack of Desafio 2, declared with Pulumi."""
