"""The recurring engine: each active template generates one invoice per occurrence of its
schedule, exactly once, however often, late or concurrently its schedule fires.

Read top to bottom: ``schemas`` (request bodies, answers), ``recurrence`` (pure: when
occurrences fall), ``templates`` (create, change, pause, resume, cancel, skip, clone, history),
``runs`` (the only place an occurrence's invoice is generated, and why exactly once),
``schedule`` (its EventBridge Scheduler schedule), ``records`` (its storage).
"""
