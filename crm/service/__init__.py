"""The service desk (module ``service``): service levels over crm's cases (business
calendars, first-response and resolution timers that pause while a case waits on the
guest, breach detection) and guest surveys (signed links, answers, NPS and CSAT).

crm's core never imports this package: cases stay where they are (``crm.models.cases``,
``crm.services.cases``); this module keeps its own tables beside them and hears of case
writes through crm's record events (see ``crm.service.events``)."""
