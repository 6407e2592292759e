"""The main screens of the product, as paths with the ids of a group's own records
({guest}, {reservation}, {case}): the accessibility scan and the Chinese-screens walk
both go through them."""

MAIN_SCREENS = [
    "/",
    "/guests/",
    "/guests/new/",
    "/guests/{guest}/",
    "/guests/{guest}/edit/",
    "/guests/duplicates/",
    "/reservations/",
    "/reservations/{reservation}/",
    "/companies/",
    "/imports/",
    "/service/queue/",
    "/service/cases/new/",
    "/service/cases/{case}/",
    "/service/satisfaction/",
    "/loyalty/",
    "/loyalty/members/",
    "/settings/",
    "/settings/users/",
    "/settings/roles/",
    "/settings/workflows/",
    "/settings/objects/",
    "/settings/webhooks/",
    "/settings/api-keys/",
    "/access/audit/",
]
