"""Library code behind the invoke tasks: manifest model, artifact builder, release logic."""
