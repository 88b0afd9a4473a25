"""NENA-STA-021 EIDO (Emergency Incident Data Object): the schema and its
validation (`schema`), an incident as an EIDO document (`export`, a read) and
reading an incoming document (`reading`). Writing an imported document is
`incidents.services.eido_exchange`."""
