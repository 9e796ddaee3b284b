"""Business calendars in the admin: weekly hours, time zone, extra days off."""

from django.contrib import admin

from tickets.models import BusinessCalendar, CalendarDayOff


class CalendarDayOffInline(admin.TabularInline):
    model = CalendarDayOff
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "russian_holidays", "monday", "saturday", "sunday")
    fieldsets = (
        (None, {"fields": ("name", "time_zone", "russian_holidays")}),
        (
            None,
            {
                "fields": (
                    ("monday", "tuesday", "wednesday", "thursday"),
                    ("friday", "saturday", "sunday"),
                )
            },
        ),
    )
    inlines = (CalendarDayOffInline,)
