"""The operator console's core, free of any web framework.

    db        the console's own store: one SQLite file, data/console/console.sqlite (WAL), created on use
    accounts  named operator accounts (slow password hashes) and sign-in throttling
    audit     who uploaded, changed, published or restored what, and when
    imports   the one adapter to the register importer (reading, mapping, preview)
    changes   staged uploads and single-entity edits, their preview and the fixes made in the browser
    queue     the review queue (verification proposals, public reports)
    publish   publish a staged change through the atomic build, restore an earlier version — each after the
              operator confirmed a summary of what it changes (plan_publish, plan_restore); versions and their diffs
    history   the audit log as Polish sentences, a version's origin and what it changed, in words

It sits above geoes.register and geoes.dataset and below geoes.web and geoes.cli: nothing here
imports Flask or geoes.web, so the CLI (`users add|list|remove`) and the tests drive it directly.
"""
