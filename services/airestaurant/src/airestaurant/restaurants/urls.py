from django.urls import path

from airestaurant.restaurants import views

app_name = "restaurants"
urlpatterns = [
    path("", views.restaurant_list, name="list"),
    path("<int:restaurant_id>/", views.restaurant_detail, name="detail"),
]
