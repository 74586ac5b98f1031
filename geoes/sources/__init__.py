"""Region data from outside the project: boundaries and population from the official services (GUGiK ULDK,
GUS BDL) or a mirror directory, the territorial units as fetched, and the offline locality gazetteer."""
